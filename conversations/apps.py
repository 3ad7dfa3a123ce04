from django.apps import AppConfig
from django.core import checks


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self):
        from conversations.services.delivery import deadline_check

        checks.register(deadline_check)
