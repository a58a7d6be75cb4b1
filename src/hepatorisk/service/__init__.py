"""The JSON API adapter: ``/v1`` routes over the assessment core, plus the operational routes
(health, metrics, models, admin). The app that serves it is ``hepatorisk.app.create_app``."""
