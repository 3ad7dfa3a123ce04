from django.apps import AppConfig


class CanvassConfig(AppConfig):
    name = "canvass"
