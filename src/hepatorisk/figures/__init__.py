"""Every figure hepatorisk draws, in one greyscale-safe style: the training run's plots and the
review-board report's figures are the same functions drawn from the same data.

    performance    ROC, precision-recall, calibration and decision curves (and their points)
    explanation    SHAP bar, beeswarm, dependence and waterfall figures
    safety         subgroup forest plot, eDISH and R-ratio injury patterns
    style          the shared look, and PNG encoding with fixed metadata

Each drawing function returns ``(figure, caption)``; it reads plain data (dicts of lists, as
stored in ``report.json``), never a model or a run.
"""
