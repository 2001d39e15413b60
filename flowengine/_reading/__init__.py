"""Reading a flow: YAML with marks, the FlowSpec it becomes, templates, and the checks.

`marked_yaml` (line/column marks, duplicate keys), `spec` (FlowSpec, NodeSpec,
ConnectionSpec, FlowSettings, Location), `diagnostic` (one problem found), `loader`
(load_flow, check_flow), `templating` + `expression` (the safe evaluator) + `references`
(what a template reads), and `checks/`, the static checks, which return Diagnostics.
"""
