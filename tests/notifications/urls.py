"""The project's URLs plus placeholders for the page names base.html links to that another branch
may not provide yet (login, inbox, case list). A placeholder is added only when the name is missing."""

from django.http import HttpResponse
from django.urls import NoReverseMatch, include, path, reverse

from config.urls import urlpatterns as project_urls


def _placeholder(request, *args, **kwargs):
    return HttpResponse("")


def _missing(name: str) -> bool:
    try:
        reverse(name, urlconf="config.urls")
    except NoReverseMatch:
        return True
    return False


urlpatterns = list(project_urls)
for name in ("home", "login", "logout"):
    if _missing(name):
        urlpatterns.append(path(f"placeholder/{name}/", _placeholder, name=name))
for namespace, name in (("workflows", "inbox"), ("cases", "list")):
    if _missing(f"{namespace}:{name}"):
        urlpatterns.append(path(f"placeholder/{namespace}/", include(([path("", _placeholder, name=name)], namespace))))
