import pytest


@pytest.fixture(autouse=True)
def base_template_links(settings):
    """Serve pages with the names base.html links to, even before the UI branch is merged."""
    settings.ROOT_URLCONF = "tests.security.stub_urls"


@pytest.fixture(autouse=True)
def stored_files_in_tmp(settings, tmp_path):
    """Documents uploaded by the matrix objects go to a temporary folder, not the checkout's media/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
