"""etpu.learn.imprinting — pycoral.learn.imprinting's path (see etpu.learn)."""
