"""hepatorisk: liver-injury and relapse risk for kratom use during opioid-use-disorder treatment.

Outputs are clinical decision support: they inform, and never replace, a clinician's judgement.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
