from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiTokenAuthentication"
    name = "jeton"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Jeton du client API de l'organisme."}
