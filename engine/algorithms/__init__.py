"""The training algorithms as data, free of torch: each one's spec (name, description,
what it trains on, its settings) in ``catalog``, looked up through ``registry``."""
