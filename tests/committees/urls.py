"""The project's URLs, plus stand-ins for the names templates/base.html links to while the branch
that provides them (home, login/logout, the case list, the inbox) is not merged. A stand-in is only
added when the real name does not resolve, so after the merge the real pages are used."""

from django.http import HttpResponse
from django.urls import NoReverseMatch, include, path, reverse

from config.urls import urlpatterns as project_urls


def _stub(request, *args, **kwargs):
    return HttpResponse("stand-in")


def _missing(name):
    try:
        reverse(name, urlconf="config.urls")
    except NoReverseMatch:
        return True
    return False


urlpatterns = list(project_urls)
for name, route in (("home", "__home/"), ("login", "__login/"), ("logout", "__logout/")):
    if _missing(name):
        urlpatterns.append(path(route, _stub, name=name))
for namespace, name in (("cases", "list"), ("workflows", "inbox")):
    if _missing(f"{namespace}:{name}"):
        urlpatterns.append(path(f"__{namespace}/", include(([path("", _stub, name=name)], namespace))))
