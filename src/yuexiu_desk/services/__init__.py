"""Use cases. Each takes a session from Store.unit_of_work()/read(), returns plain dataclasses and
raises UserError for bad input; callers never commit inside a service."""
