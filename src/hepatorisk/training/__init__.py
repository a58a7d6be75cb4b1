"""Training: pipeline spec, named steps over a data catalog, runner, quality gate, scoring."""
