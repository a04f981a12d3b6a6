/*
 * import_map.c — which import field a column header means: the export
 * headers of Outlook and Google Contacts (old and new formats), common
 * English and Russian names, the field names themselves, and a few patterns
 * ("Business Phone 2", "E-mail 3 Address", "Address 1 - City").  Pure: no
 * store, no I/O.  The tables are the documentation's source (docs/IMPORT.md).
 */
#include "import_int.h"

#include <ctype.h>
#include <string.h>

typedef struct alias {
	const char *name;   /* normalized header: lower case letters and digits only, ё → е */
	const char *field;
	unsigned ents;
	int weak;           /* yields to a column mapped without weak to the same field */
} alias;

/* Outlook, Google Contacts (old and new), common English and Russian names.
 * The field names themselves (first_name → "firstname") are always known. */
static const alias aliases[] = {
	{"id", "id", E_ALL, 0}, {"uid", "id", E_ALL, 0},
	{"firstname", "first_name", E_CONTACT | E_LEAD, 0}, {"first", "first_name", E_CONTACT | E_LEAD, 0},
	{"givenname", "first_name", E_CONTACT | E_LEAD, 0}, {"forename", "first_name", E_CONTACT | E_LEAD, 0},
	{"имя", "first_name", E_CONTACT | E_LEAD, 0},
	{"lastname", "last_name", E_CONTACT | E_LEAD, 0}, {"last", "last_name", E_CONTACT | E_LEAD, 0},
	{"surname", "last_name", E_CONTACT | E_LEAD, 0}, {"familyname", "last_name", E_CONTACT | E_LEAD, 0},
	{"фамилия", "last_name", E_CONTACT | E_LEAD, 0},
	{"middlename", "middle_name", E_CONTACT | E_LEAD, 0}, {"additionalname", "middle_name", E_CONTACT | E_LEAD, 0},
	{"отчество", "middle_name", E_CONTACT | E_LEAD, 0},
	{"fullname", "full_name", E_CONTACT | E_LEAD, 0}, {"name", "full_name", E_CONTACT | E_LEAD, 1},
	{"displayname", "full_name", E_CONTACT | E_LEAD, 0}, {"contactname", "full_name", E_CONTACT | E_LEAD, 0},
	{"фио", "full_name_ru", E_CONTACT | E_LEAD, 0}, {"контактноелицо", "full_name_ru", E_CONTACT | E_LEAD, 0},
	{"jobtitle", "title", E_CONTACT, 0}, {"title", "title", E_CONTACT, 1}, {"position", "title", E_CONTACT, 0},
	{"organizationtitle", "title", E_CONTACT, 0}, {"organization1title", "title", E_CONTACT, 0},
	{"role", "title", E_CONTACT, 1}, {"должность", "title", E_CONTACT, 0},
	{"birthday", "birthday", E_CONTACT, 0}, {"birthdate", "birthday", E_CONTACT, 0},
	{"dateofbirth", "birthday", E_CONTACT, 0}, {"датарождения", "birthday", E_CONTACT, 0},
	{"деньрождения", "birthday", E_CONTACT, 0}, {"nextcontact", "next_contact", E_CONTACT, 0},
	{"company", "company", E_CONTACT | E_DEAL, 0}, {"companyname", "company", E_CONTACT | E_DEAL, 0},
	{"organization", "company", E_CONTACT | E_DEAL, 0}, {"organisation", "company", E_CONTACT | E_DEAL, 0},
	{"organizationname", "company", E_CONTACT | E_DEAL, 0}, {"organization1name", "company", E_CONTACT | E_DEAL, 0},
	{"accountname", "company", E_CONTACT | E_DEAL, 0}, {"org", "company", E_CONTACT | E_DEAL, 0}, {"компания", "company", E_CONTACT | E_DEAL, 0},
	{"организация", "company", E_CONTACT | E_DEAL, 0}, {"названиекомпании", "company", E_CONTACT | E_DEAL, 0},
	{"контрагент", "company", E_CONTACT | E_DEAL, 0}, {"клиент", "company", E_DEAL, 1},
	{"company", "company_name", E_LEAD, 0}, {"companyname", "company_name", E_LEAD, 0},
	{"organization", "company_name", E_LEAD, 0}, {"org", "company_name", E_LEAD, 0}, {"компания", "company_name", E_LEAD, 0},
	{"организация", "company_name", E_LEAD, 0}, {"названиекомпании", "company_name", E_LEAD, 0},
	{"name", "name", E_COMPANY, 0}, {"company", "name", E_COMPANY, 0}, {"companyname", "name", E_COMPANY, 0},
	{"organization", "name", E_COMPANY, 0}, {"organisation", "name", E_COMPANY, 0}, {"org", "name", E_COMPANY, 0},
	{"organizationname", "name", E_COMPANY, 0}, {"accountname", "name", E_COMPANY, 0},
	{"название", "name", E_COMPANY, 0}, {"наименование", "name", E_COMPANY, 0},
	{"компания", "name", E_COMPANY, 0}, {"организация", "name", E_COMPANY, 0},
	{"названиекомпании", "name", E_COMPANY, 0}, {"наименованиеорганизации", "name", E_COMPANY, 0},
	{"краткоенаименование", "name", E_COMPANY, 0}, {"полноенаименование", "name", E_COMPANY, 1},
	{"контрагент", "name", E_COMPANY, 0},
	{"taxid", "tax_id", E_COMPANY, 0}, {"inn", "tax_id", E_COMPANY, 0}, {"инн", "tax_id", E_COMPANY, 0},
	{"vat", "tax_id", E_COMPANY, 0}, {"vatnumber", "tax_id", E_COMPANY, 0}, {"vatid", "tax_id", E_COMPANY, 0},
	{"taxnumber", "tax_id", E_COMPANY, 0},
	{"companytaxid", "company_tax_id", E_CONTACT | E_DEAL, 0}, {"taxid", "company_tax_id", E_CONTACT | E_DEAL, 0},
	{"inn", "company_tax_id", E_CONTACT | E_DEAL, 0}, {"инн", "company_tax_id", E_CONTACT | E_DEAL, 0},
	{"иннкомпании", "company_tax_id", E_CONTACT | E_DEAL, 0}, {"vat", "company_tax_id", E_CONTACT | E_DEAL, 0},
	{"industry", "industry", E_COMPANY, 0}, {"отрасль", "industry", E_COMPANY, 0},
	{"сферадеятельности", "industry", E_COMPANY, 0}, {"виддеятельности", "industry", E_COMPANY, 0},
	{"website", "website", E_COMPANY, 0}, {"webpage", "website", E_COMPANY, 0}, {"web", "website", E_COMPANY, 0},
	{"url", "website", E_COMPANY, 0}, {"site", "website", E_COMPANY, 0}, {"homepage", "website", E_COMPANY, 0},
	{"website1value", "website", E_COMPANY, 0}, {"сайт", "website", E_COMPANY, 0}, {"вебсайт", "website", E_COMPANY, 0},
	{"address", "address", E_CONTACT | E_COMPANY, 0}, {"адрес", "address", E_CONTACT | E_COMPANY, 0},
	{"address1formatted", "address", E_CONTACT | E_COMPANY, 0}, {"businessaddress", "address", E_CONTACT | E_COMPANY, 0},
	{"юридическийадрес", "address", E_COMPANY, 0}, {"фактическийадрес", "address", E_CONTACT | E_COMPANY, 0},
	{"почтовыйадрес", "address", E_CONTACT | E_COMPANY, 0},
	{"email", "email", E_CONTACT | E_COMPANY | E_LEAD, 0}, {"tel", "phone", E_CONTACT | E_COMPANY | E_LEAD, 0},
	{"тел", "phone", E_CONTACT | E_COMPANY | E_LEAD, 0},
	{"notes", "note", E_CONTACT | E_COMPANY | E_DEAL, 0}, {"note", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"comments", "note", E_CONTACT | E_COMPANY | E_DEAL, 0}, {"comment", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"description", "note", E_CONTACT | E_COMPANY | E_DEAL, 0}, {"комментарий", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"комментарии", "note", E_CONTACT | E_COMPANY | E_DEAL, 0}, {"примечание", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"примечания", "note", E_CONTACT | E_COMPANY | E_DEAL, 0}, {"заметки", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"описание", "note", E_CONTACT | E_COMPANY | E_DEAL, 0},
	{"owner", "owner", E_ALL, 0}, {"responsible", "owner", E_ALL, 0}, {"assignedto", "owner", E_ALL, 0},
	{"ответственный", "owner", E_ALL, 0}, {"manager", "owner", E_ALL, 1}, {"менеджер", "owner", E_ALL, 1},
	{"title", "title", E_DEAL | E_LEAD, 0}, {"dealname", "title", E_DEAL, 0}, {"deal", "title", E_DEAL, 0},
	{"dealtitle", "title", E_DEAL, 0}, {"name", "title", E_DEAL, 1}, {"subject", "title", E_DEAL | E_LEAD, 1},
	{"сделка", "title", E_DEAL, 0}, {"названиесделки", "title", E_DEAL, 0}, {"название", "title", E_DEAL | E_LEAD, 0},
	{"лид", "title", E_LEAD, 0}, {"названиелида", "title", E_LEAD, 0},
	{"amount", "amount", E_DEAL, 0}, {"dealvalue", "amount", E_DEAL, 0}, {"value", "amount", E_DEAL, 1},
	{"sum", "amount", E_DEAL, 0}, {"budget", "amount", E_DEAL, 0}, {"сумма", "amount", E_DEAL, 0},
	{"бюджет", "amount", E_DEAL, 0}, {"суммасделки", "amount", E_DEAL, 0},
	{"currency", "currency", E_DEAL, 0}, {"валюта", "currency", E_DEAL, 0},
	{"stage", "stage", E_DEAL, 0}, {"dealstage", "stage", E_DEAL, 0}, {"этап", "stage", E_DEAL, 0},
	{"стадия", "stage", E_DEAL, 0}, {"этапсделки", "stage", E_DEAL, 0}, {"status", "stage", E_DEAL, 1},
	{"статус", "stage", E_DEAL, 1}, {"pipeline", "pipeline", E_DEAL, 0}, {"воронка", "pipeline", E_DEAL, 0},
	{"source", "source", E_DEAL | E_LEAD, 0}, {"leadsource", "source", E_DEAL | E_LEAD, 0},
	{"источник", "source", E_DEAL | E_LEAD, 0},
	{"closedate", "expected_close", E_DEAL, 0}, {"expectedclose", "expected_close", E_DEAL, 0},
	{"expectedclosedate", "expected_close", E_DEAL, 0}, {"датазакрытия", "expected_close", E_DEAL, 0},
	{"ожидаемаядатазакрытия", "expected_close", E_DEAL, 0}, {"probability", "probability", E_DEAL, 0},
	{"вероятность", "probability", E_DEAL, 0}, {"lostreason", "lost_reason", E_DEAL, 0},
	{"причинаотказа", "lost_reason", E_DEAL, 0}, {"причинапроигрыша", "lost_reason", E_DEAL, 0},
	{"contactemail", "contact_email", E_DEAL, 0},
	{"status", "status", E_LEAD, 0}, {"статус", "status", E_LEAD, 0},
};

static const char *const ent_names[] = {"contact", "company", "deal", "lead"};
static const char *const ent_fields[] = {
	"id first_name last_name middle_name full_name title birthday email phone company company_tax_id "
	"next_contact owner note address",
	"id name tax_id industry website address email phone owner note",
	"id title company company_tax_id contact_email pipeline stage amount currency probability "
	"expected_close source lost_reason owner note",
	"id title first_name last_name middle_name full_name company_name email phone source status owner",
};

const char *imp_ent_name(unsigned ent)
{
	return ent_names[ent == E_CONTACT ? 0 : ent == E_COMPANY ? 1 : ent == E_DEAL ? 2 : 3];
}

unsigned imp_ent_bit(const char *entity)
{
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(entity, ent_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *crm_import_fields(const char *entity)
{
	unsigned b = imp_ent_bit(entity);
	return b ? ent_fields[b == 1 ? 0 : b == 2 ? 1 : b == 4 ? 2 : 3] : NULL;
}

int imp_word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && strncmp(p, w, n) == 0)
			return 1;
		p += k + (p[k] == ' ');
	}
	return 0;
}

int imp_is_multi(unsigned ent, const char *field)
{
	if (strcmp(field, "email") == 0 || strcmp(field, "phone") == 0 || strcmp(field, "address") == 0)
		return ent != E_LEAD;
	return strcmp(field, "note") == 0;
}

/* Header → lower case letters and digits only (Cyrillic folded, ё → е). */
void imp_norm_header(char *out, size_t cap, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	while (*p && o + 3 < cap) {
		unsigned cp = *p;
		size_t n = 1;
		if (cp >= 0xC0 && cp < 0xE0 && (p[1] & 0xC0) == 0x80)
			cp = ((cp & 0x1Fu) << 6) | (p[1] & 0x3Fu), n = 2;
		else if (cp >= 0x80)
			for (n = 1; p[n] && (p[n] & 0xC0) == 0x80; n++)
				;
		if (cp < 0x80 && isalnum((int)cp)) {
			out[o++] = (char)tolower((int)cp);
		} else if ((cp >= 0x410 && cp <= 0x44F) || cp == 0x401 || cp == 0x451) {
			if (cp <= 0x42F)
				cp += 0x20;
			if (cp == 0x401 || cp == 0x451)
				cp = 0x435;
			out[o++] = (char)(0xC0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
		p += n;
	}
	out[o] = '\0';
}

/* Every import field name, so mapped columns can point at stable strings. */
static const char *const all_fields[] = {
	"id", "first_name", "last_name", "middle_name", "full_name", "title", "birthday", "email", "phone",
	"company", "company_tax_id", "next_contact", "owner", "note", "address", "name", "tax_id", "industry",
	"website", "contact_email", "pipeline", "stage", "amount", "currency", "probability", "expected_close",
	"source", "lost_reason", "company_name", "status",
};

/* The import field of `ent` whose name, without '_', equals norm (or
 * equals it exactly when exact is set); NULL if none. */
const char *imp_field_match(const char *norm, unsigned ent, int exact)
{
	const char *list = ent_fields[ent == E_CONTACT ? 0 : ent == E_COMPANY ? 1 : ent == E_DEAL ? 2 : 3];
	for (size_t i = 0; i < sizeof(all_fields) / sizeof(all_fields[0]); i++) {
		char plain[64];
		size_t o = 0;
		for (const char *c = all_fields[i]; *c && o + 1 < sizeof(plain); c++)
			if (exact || *c != '_')
				plain[o++] = *c;
		plain[o] = '\0';
		if (strcmp(plain, norm) == 0 && imp_word_in(list, all_fields[i]))
			return all_fields[i];
	}
	return NULL;
}

static const char *field_named(const char *norm, unsigned ent) { return imp_field_match(norm, ent, 0); }

static int has(const char *s, const char *w) { return strstr(s, w) != NULL; }

static int ends(const char *s, const char *w)
{
	size_t a = strlen(s), b = strlen(w);
	return a >= b && strcmp(s + a - b, w) == 0;
}

/* The import field of a (normalized) header for one entity, or NULL. */
const char *imp_map_header(const char *norm, unsigned ent, int *weak)
{
	static const char *const addr_parts[] = {"street", "city", "state", "postalcode", "zip", "country",
						 "region", "pobox", "улица", "город", "индекс", "страна", "область"};
	*weak = 0;
	if (!*norm)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if ((aliases[i].ents & ent) && strcmp(aliases[i].name, norm) == 0)
			return (*weak = aliases[i].weak), aliases[i].field;
	const char *typed = field_named(norm, ent);   /* first_name typed as "First name" */
	if (typed)
		return typed;
	if (has(norm, "fax") || has(norm, "факс") || ends(norm, "label") || ends(norm, "type") ||
	    has(norm, "displayname") || ends(norm, "тип"))
		return NULL;
	if (ent & (E_CONTACT | E_COMPANY | E_LEAD)) {
		if (has(norm, "email") || has(norm, "mail") || has(norm, "почт"))
			return "email";
		if (has(norm, "phone") || has(norm, "телефон") || has(norm, "mobile") || has(norm, "мобильн") ||
		    has(norm, "сотов"))
			return "phone";
	}
	if (ent & (E_CONTACT | E_COMPANY)) {
		int part = strncmp(norm, "address", 7) == 0;
		for (size_t i = 0; !part && i < sizeof(addr_parts) / sizeof(addr_parts[0]); i++)
			part = has(norm, addr_parts[i]);
		if (part)
			return (*weak = 1), "address";
	}
	return NULL;
}
