"""h056hunt: find admin session revocations followed by MFA push bombing."""

__version__ = "0.1.0"
