"""The linear program: built from the network with small ``define_*`` functions."""
