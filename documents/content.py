"""What an uploaded file is, read from its first bytes (never from its name or the browser's word)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024

# Signatures of the accepted formats: (first bytes, extension, content type).
SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)


def checked(upload) -> tuple[str, str]:
    """(extension, content type) of an accepted upload; a French ValidationError otherwise."""
    if upload is None or not upload.size:
        raise ValidationError(_("Le fichier est vide : choisissez un document."), code="empty")
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("Le fichier dépasse 10 Mo (%(size)s Mo) : réduisez-le ou scannez-le en plus basse résolution.")
            % {"size": f"{upload.size / 1024 / 1024:.1f}".replace(".", ",")},
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, extension, content_type in SIGNATURES:
        if head.startswith(signature):
            return extension, content_type
    raise ValidationError(
        _("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, pas seulement son nom)."),
        code="bad_type",
    )
