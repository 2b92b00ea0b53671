"""Executable PyTorch demos; each module writes its figures and data.json into a folder it is given."""
