"""After deployment (issue 18): is the model still right here?

thresholds      the pipeline file's ``monitoring:`` block, validated
drift           input drift per feature (PSI on the training reference's bins, missing
                rates), prediction drift and band shares
performance     performance before labels (confidence-based, as NannyML's CBPE) and once
                outcomes are in (AUROC, observed vs expected, calibration slope/intercept)
store           de-identified monitoring records and outcome feedback (SQL)
report          one monitoring window as JSON and self-contained HTML
recalibration   logistic recalibration on local labelled data, a challenger with lineage,
                and the local gate (challenger vs champion on held-out local data)
change_record   what a promotion changed, its acceptance criteria and band movements
promotion       ``hepatorisk promote``: the gate that fits the challenger, then the record
"""
