from django.utils import translation


class FrenchApiMiddleware:
    """The API answers in French whatever the client's Accept-Language (DRF's own messages included).

    Placed right after LocaleMiddleware, which picks the language for the pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            translation.activate("fr")
            request.LANGUAGE_CODE = "fr"
        return self.get_response(request)
