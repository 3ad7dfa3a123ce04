"""Response headers every Porchlight page needs."""


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer that does not say otherwise.

    Pages and API answers carry people's names, phone numbers, addresses and stories: no
    browser cache, shared proxy or back button may keep a copy. A view that sets its own
    Cache-Control (the door screen's shell and manifest, which hold nobody's details) keeps it;
    static files never reach this middleware (WhiteNoise answers above it).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
