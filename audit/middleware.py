from django.urls import Resolver404, resolve

from cases.audit import stating


class HistoryReasonMiddleware:
    """Give every history row written during a request a reason naming the page (ids only, no data).

    Place it after simple_history's HistoryRequestMiddleware, which records the user. A service
    called by the view replaces this default with its own reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            name = request.path_info[:60]
        with stating(f"Web {request.method} {name}"[:100]):
            return self.get_response(request)
