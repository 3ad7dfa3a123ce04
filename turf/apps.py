from django.apps import AppConfig


class TurfConfig(AppConfig):
    name = "turf"
