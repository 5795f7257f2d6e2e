"""yuexiu-desk: the offline-first desk app of the 悦秀苑 public rental housing service station."""

__version__ = "0.1.0"
