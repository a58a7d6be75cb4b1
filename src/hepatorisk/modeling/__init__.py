"""Modelling: features, estimators, evaluation, tracking and the training pipeline runner."""
