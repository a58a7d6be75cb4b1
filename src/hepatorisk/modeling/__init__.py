"""Modelling: the feature builder, the calibrated LightGBM and spline-logistic estimators, the
pickle-free model bundle, its MLflow pyfunc, the scores compared, and the evaluation metrics.

Training (pipeline spec, steps, runner, gate, scoring) lives in ``hepatorisk.training``; MLflow
runs, the registry and model loading in ``hepatorisk.tracking``.
"""
