"""etpu.learn.backprop — pycoral.learn.backprop's path (see etpu.learn)."""
