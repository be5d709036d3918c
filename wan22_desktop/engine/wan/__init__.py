"""Our own PyTorch implementation of the Wan2.2 networks, solvers and checkpoint loading."""
