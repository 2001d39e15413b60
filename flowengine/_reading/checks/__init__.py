"""The static checks a schema cannot do: each returns the Diagnostics it finds.

`structure` (start, routes, connections, outcomes, literal inputs, retries), `literals` (schema
errors explained at their key), `graph` (reachability, template reads against the order
nodes can run in), `dominance` (the dominator tree behind that order).
"""
