"""The project database: connection settings, schema and versioned migrations."""
