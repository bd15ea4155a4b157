"""The project's URLconf plus placeholders for the page names templates/base.html links to.

base.html links to `home`, `login`, `logout`, `cases:list` and `workflows:inbox`, which the UI branch
provides. Until those exist on the branch under test, rendering any page would fail; this URLconf adds
a placeholder for each name the real URLconf does not define, and nothing else. Tests that walk the
real resolver (the access matrix) read config.urls, never this module.
"""

from django.http import HttpResponse
from django.urls import NoReverseMatch, include, path, reverse

from config import urls as real

BASE_TEMPLATE_NAMES = ("home", "login", "logout", "cases:list", "workflows:inbox")


def _placeholder(request, *args, **kwargs):
    return HttpResponse("placeholder")


def _missing():
    missing = []
    for name in BASE_TEMPLATE_NAMES:
        try:
            reverse(name, urlconf=real)
        except NoReverseMatch:
            missing.append(name)
    return missing


urlpatterns = list(real.urlpatterns)
_by_namespace: dict[str, list] = {}
for _name in _missing():
    namespace, _sep, short = _name.rpartition(":")
    _by_namespace.setdefault(namespace, []).append(short)
for _namespace, _names in _by_namespace.items():
    stubs = [path(f"__stub__/{_namespace or 'root'}/{n}/", _placeholder, name=n) for n in _names]
    urlpatterns.append(path("", include((stubs, _namespace))) if _namespace else path("", include(stubs)))

STUB_NAMES = [f"{ns}:{n}" if ns else n for ns, names in _by_namespace.items() for n in names]
