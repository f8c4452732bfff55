"""The applications on top of the public API: the command line, the demo and the batch report."""
