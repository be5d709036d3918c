"""The runtime: the queue runner, the worker process and what they agree on (protocol, plan, hardware).

The runner, launcher, protocol, planner, hardware and keep-awake modules stay torch-free (they run in
the GUI process); only ``worker`` imports the engine, in its own process.
"""
