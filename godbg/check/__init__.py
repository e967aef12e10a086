"""`check` for CI: rules over what the runtime knew, each one a pass or a list of findings."""
