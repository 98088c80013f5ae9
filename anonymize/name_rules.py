"""Column names that mean an entity whatever the values look like: ``dob``, ``caller_name``, ``plate``.

Rules match the normalised name (``"Caller Name"``, ``callerName`` and ``caller-name`` all read
``caller_name``; ``"Teléfono"`` reads ``telefono``); an outside rule registers with
:func:`register_name_rule` like the built-ins. The vocabulary is English, Spanish, French and
Portuguese. Names only add to what the values show: a column coded ``field_07`` is judged by its values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anonymize.lexicons import fold


@dataclass(frozen=True)
class NameRule:
    """A column name that means an entity, whatever the values look like."""

    entity: str
    pattern: str
    confidence: float = 0.8

    def matches(self, normalized_name: str) -> bool:
        if _DESCRIBES_NOT_HOLDS.search(normalized_name):
            return False
        return re.search(self.pattern, normalized_name) is not None


# "address_type", "email_verified", "phone_count" describe a value rather than hold it.
_DESCRIBES_NOT_HOLDS = re.compile(
    r"_(type|kind|category|class|status|flag|count|source|format|verified|provided|present|valid|known"
    r"|tipo|estado|categoria|statut|estatus)$"
)


_PERSON_ROLES = (
    r"caller|complainant|patient|resident|applicant|owner|contact|employee|person|customer|client|driver"
    r"|victim|reporter|requester|requestor|citizen|tenant|landlord|member|student|user|submitter|witness"
    r"|suspect|officer|inspector|manager|author|recipient|payee|beneficiary|guardian|parent|spouse"
)
# Spanish, French, Portuguese: nombre_contacto, nom_du_demandeur, nome_completo, apellido_paterno ...
_PERSON_OTHER = (
    r"(^|_)(nombres?|nom|nome)_(completo|complet|del?_|du_|da_|do_)?(contacto|contact|contato|solicitante|"
    r"demandeur|requerente|persona|personne|pessoa|ciudadano|citoyen|cidadao|denunciante|titular|"
    r"representante|responsable|responsavel|beneficiario|beneficiaire|paciente|patient|cliente|client|usuario|"
    r"utilisateur|usuario|propietario|proprietaire|proprietario)(_|$)"
    r"|(^|_)(apellidos?|apellido_(paterno|materno)|primer_apellido|segundo_apellido|nombre_completo|nombre_y_apellido"
    r"|nombre_de_pila|prenom|prenoms|nom_de_famille|nom_complet|nom_prenom|sobrenome|nome_completo|apelido"
    r"|contacto|persona_de_contacto|persona_contacto|contact_person|contato|pessoa_de_contato)(_|$)"
)
_NAME_RULES: list[NameRule] = [
    NameRule("EMAIL_ADDRESS", r"(^|_)e_?mail(_|$)|email_address|(^|_)(correo(_electronico)?|courriel|"
             r"adresse_(e_?mail|electronique)|mel)(_|$)"),
    NameRule("PHONE_NUMBER", r"(^|_)(phone|telephone|tel|mobile|cell|fax)(_|$)|phone_?number"
             r"|(^|_)(telefono|telefonos|celular|movil|telefone|telemovel|portable|numero_de_telephone)(_|$)"),
    NameRule("US_SSN", r"(^|_)(ssn|social_security(_number)?|sin|nino)(_|$)"),
    NameRule("NATIONAL_ID", r"(^|_)(national_id|dni|nie|curp|cedula(_de_identidad)?|documento_de_identidad|"
             r"numero_de_documento|cpf|nir|numero_de_securite_sociale|nss|codice_fiscale|pesel|passport|"
             r"pasaporte|passeport|passaporte)(_|$)"),
    NameRule("CREDIT_CARD", r"(^|_)(credit_?card|card_?number|cc_?number|pan|tarjeta(_de_credito)?|"
             r"carte_bancaire|cartao(_de_credito)?)(_|$)"),
    NameRule("IBAN_CODE", r"(^|_)(iban|bank_?account|account_number|cuenta_bancaria|clabe|"
             r"compte_bancaire|rib|conta_bancaria|nib)(_|$)"),
    NameRule("IP_ADDRESS", r"(^|_)(ip|ip_?address|ipv4|ipv6|client_ip|remote_addr|direccion_ip|adresse_ip)(_|$)"),
    NameRule("STREET_ADDRESS", r"(^|_)(?<!ip_)(?<!mac_)(?<!mail_)(?<!web_)(street_address|home_address|address|"
             r"incident_address|mailing_address|residence|addr|domicilio|direccion|calle|adresse|domicile|"
             r"endereco|morada|logradouro|residencia)(_|$)", 0.6),
    NameRule("POSTCODE", r"(^|_)(zip|zip_?code|zipcode|postcode|postal_?code|post_code|plz|codigo_postal|cp|"
             r"code_postal|cep|codigo_de_endereco)(_|$)"),
    NameRule("DATE_OF_BIRTH", r"(^|_)(dob|birth|birthday|birthdate|date_of_birth|birth_?date|birth_?year|"
             r"year_of_birth|born|fecha_de_nacimiento|fecha_nacimiento|nacimiento|date_de_naissance|naissance|"
             r"data_de_nascimento|data_nascimento|nascimento|ano_de_nacimiento)(_|$)", 0.9),
    # "long" alone or last ("pickup_long"), not inside a name ("route_long_name")
    NameRule("COORDINATE", r"(^|_)(lat|latitude|lon|lng|longitude|x_coordinate|y_coordinate|"
             r"geo_?location|coordinates?|latitud|longitud|coordenadas?|coordonnees)(_|$)|(^|_)long$"),
    NameRule("PERSON", r"(^|_)(first|last|full|given|middle|family|sur|fore|maiden|nick)_?name(_|$)"
             r"|(^|_)(surname|forename|firstname|lastname|fullname)(_|$)"
             r"|(^|_)(" + _PERSON_ROLES + r")_?(name|full_name)(_|$)|" + _PERSON_OTHER, 0.9),
    NameRule("USERNAME", r"(^|_)(user_?name|login|handle|screen_?name|nombre_de_usuario|usuario|"
             r"nom_d_utilisateur|identifiant|nome_de_usuario)(_|$)", 0.85),
    NameRule("VEHICLE_PLATE", r"(^|_)(plate|license_?plate|licence_?plate|number_?plate|plate_?number|"
             r"vrm|registration_?(number|plate)|tag_?number|placa|placas|matricula|plaque|"
             r"plaque_d_immatriculation|immatriculation)(_|$)", 0.85),
]


def register_name_rule(rule: NameRule) -> None:
    _NAME_RULES.append(rule)


def name_rules() -> list[NameRule]:
    return list(_NAME_RULES)


def normalize_name(name: str) -> str:
    """``"Caller Name"``, ``"callerName"`` and ``"caller-name"`` all become ``caller_name``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", fold(spaced)).strip("_")
