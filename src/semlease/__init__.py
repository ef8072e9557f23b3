"""semlease: lease regions of meaning so many coding agents can work in one repository at once."""

__version__ = "0.1.0"
