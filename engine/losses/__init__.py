"""Training losses as pure tensor functions (import the submodules; this package stays light)."""
