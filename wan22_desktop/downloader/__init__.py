"""Model downloads from Hugging Face and ModelScope: resumable, verified, cancellable."""
