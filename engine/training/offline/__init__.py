"""The offline methods, one class each (named by their spec's implementation): how a
method encodes its labelled examples, which reference log-probs it needs, and the
objective of a micro-batch, computed by the pure losses of engine.losses.preference."""
