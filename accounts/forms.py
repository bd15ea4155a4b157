from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code à usage unique",
        max_length=16,
        help_text="Les 6 chiffres affichés par votre application, ou un code de secours.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        error_messages={"required": "Saisissez le code affiché par votre application."},
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()
