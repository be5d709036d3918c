"""Wan22 Desktop: text and image to video with the open Wan2.2 models, on your own GPUs."""

__version__ = "0.1.0"
