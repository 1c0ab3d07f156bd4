"""The arena: blind battles between entrants (the base model, checkpoints, external models)
and the Bradley-Terry ratings fitted from them."""
