"""The `amf1` command line: it assembles the other packages' commands and owns nothing else."""
