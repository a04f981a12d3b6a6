/*
 * bench_names.c — synthetic people for the search benchmark (see
 * bench_names.h).
 *
 * The name lists are common Russian and English given names and surnames,
 * typed for this benchmark.  Russian surnames are listed in the male form;
 * a woman's surname is derived by the usual agreement rules (-ов → -ова,
 * -ский → -ская, -ой → -ая; -енко, -их, -ых do not change).  E-mail local
 * parts are a simple transliteration of the name.
 */
#include "bench_names.h"
#include "bench_util.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const ru_male[] = {
	"Александр", "Алексей", "Анатолий", "Андрей", "Антон", "Аркадий", "Арсений", "Артём",
	"Артур", "Богдан", "Борис", "Вадим", "Валентин", "Валерий", "Василий", "Виктор",
	"Виталий", "Владимир", "Владислав", "Всеволод", "Вячеслав", "Геннадий", "Георгий",
	"Герман", "Глеб", "Григорий", "Давид", "Даниил", "Денис", "Дмитрий", "Евгений", "Егор",
	"Елисей", "Захар", "Иван", "Игнат", "Игорь", "Илья", "Кирилл", "Константин", "Лев",
	"Леонид", "Макар", "Максим", "Марк", "Матвей", "Михаил", "Никита", "Николай", "Олег",
	"Павел", "Пётр", "Платон", "Роман", "Ростислав", "Руслан", "Савелий", "Семён",
	"Сергей", "Станислав", "Степан", "Тимофей", "Тимур", "Фёдор", "Филипп", "Эдуард",
	"Юрий", "Ярослав", "Эрик", "Ефим", "Вениамин", "Лука", "Марат", "Мирон", "Назар",
	"Прохор", "Родион", "Святослав", "Тихон", "Трофим", "Эмиль", "Яков", "Адам", "Альберт",
	"Гордей", "Демид", "Емельян", "Иннокентий", "Климент", "Кузьма", "Лаврентий",
	"Мстислав", "Нестор", "Остап", "Архип", "Афанасий", "Кондрат", "Виссарион", "Ефрем",
	"Игнатий", "Фома", "Харитон", "Юлиан",
};

static const char *const ru_female[] = {
	"Александра", "Алёна", "Алина", "Алиса", "Алла", "Анастасия", "Ангелина", "Анна",
	"Антонина", "Арина", "Валентина", "Валерия", "Варвара", "Василиса", "Вера", "Вероника",
	"Виктория", "Галина", "Дарья", "Диана", "Ева", "Евгения", "Екатерина", "Елена",
	"Елизавета", "Жанна", "Зинаида", "Зоя", "Инна", "Ирина", "Карина", "Кира", "Кристина",
	"Ксения", "Лариса", "Лидия", "Лилия", "Любовь", "Людмила", "Маргарита", "Марина",
	"Мария", "Милана", "Надежда", "Наталья", "Нина", "Оксана", "Олеся", "Ольга", "Полина",
	"Раиса", "Регина", "Светлана", "Софья", "Таисия", "Тамара", "Татьяна", "Ульяна",
	"Юлия", "Яна", "Ярослава", "Эвелина", "Элина", "Эльвира", "Майя", "Мирослава", "Нелли",
	"Римма", "Роза", "Снежана", "Стефания", "Злата", "Есения", "Виолетта", "Владислава",
	"Глафира", "Дина", "Евдокия", "Лада", "Лиана", "Любава", "Нонна", "Олимпиада",
	"Пелагея", "Серафима", "Станислава", "Фаина", "Эмилия", "Юлиана", "Агата", "Аделина",
	"Аксинья", "Алевтина", "Берта", "Ефросинья", "Гульнара", "Дарина", "Зарина",
	"Изабелла", "Вита", "Лея",
};

static const char *const ru_last[] = {
	"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
	"Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
	"Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
	"Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
	"Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв",
	"Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв",
	"Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
	"Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
	"Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
	"Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев",
	"Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров",
	"Калинин", "Исаев", "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев",
	"Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров",
	"Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев",
	"Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов",
	"Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев",
	"Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Ерёмин",
	"Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов",
	"Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин",
	"Митрофанов", "Воронцов", "Суханов", "Крюков", "Рябов", "Зуев", "Шубин", "Блинов",
	"Гуляев", "Мухин", "Шевченко", "Бондаренко", "Ткаченко", "Кравченко", "Коваленко",
	"Савченко", "Черных", "Седых", "Белых", "Толстой", "Трубецкой", "Покровский",
	"Вишневский", "Успенский", "Рождественский", "Преображенский", "Введенский",
	"Соколовский", "Добровольский", "Жуковский", "Островский", "Гладков", "Дьячков",
	"Пестов", "Шестаков", "Широков", "Бобров", "Голованов", "Дроздов", "Ершов", "Жданов",
	"Зимин", "Игнатьев", "Кабанов", "Лапин", "Лыткин", "Мишин", "Носков", "Одинцов",
	"Пахомов", "Русаков", "Сафонов", "Третьяков", "Уваров", "Фадеев", "Хохлов", "Цыганков",
	"Чистяков", "Шилов", "Щукин", "Юрьев", "Якушев", "Аксёнов", "Большаков", "Веселов",
	"Горшков", "Дорофеев", "Еремеев", "Жилин", "Зыков",
};

static const char *const en_first[] = {
	"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph",
	"Thomas", "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald",
	"Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy",
	"Ronald", "Edward", "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric",
	"Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel",
	"Gregory", "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry",
	"Tyler", "Aaron", "Jose", "Adam", "Nathan", "Henry", "Douglas", "Zachary", "Peter",
	"Kyle", "Ethan", "Walter", "Noah", "Jeremy", "Christian", "Keith", "Roger", "Terry",
	"Gerald", "Harold", "Sean", "Austin", "Carl", "Arthur", "Lawrence", "Dylan", "Jesse",
	"Jordan", "Bryan", "Billy", "Joe", "Bruce", "Gabriel", "Logan", "Albert", "Willie",
	"Alan", "Juan", "Wayne", "Elijah", "Randy", "Roy", "Vincent", "Ralph", "Eugene",
	"Russell", "Bobby", "Mason", "Philip", "Louis", "Mary", "Patricia", "Jennifer",
	"Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Lisa", "Nancy",
	"Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
	"Carol", "Amanda", "Dorothy", "Melissa", "Deborah", "Stephanie", "Rebecca", "Sharon",
	"Laura", "Cynthia", "Kathleen", "Amy", "Angela", "Shirley", "Anna", "Brenda", "Pamela",
	"Emma", "Nicole", "Helen", "Samantha", "Katherine", "Christine", "Debra", "Rachel",
	"Carolyn", "Janet", "Catherine", "Maria", "Heather", "Diane", "Ruth", "Julie",
	"Olivia", "Joyce", "Virginia", "Victoria", "Kelly", "Lauren", "Christina", "Joan",
	"Evelyn", "Judith", "Megan", "Andrea", "Cheryl", "Hannah", "Jacqueline", "Martha",
	"Gloria", "Teresa", "Ann", "Sara", "Madison", "Frances", "Kathryn", "Janice", "Jean",
	"Abigail", "Alice", "Judy", "Sophia", "Grace", "Denise", "Amber", "Doris", "Marilyn",
	"Danielle", "Beverly", "Isabella", "Theresa", "Diana", "Natalie", "Brittany",
	"Charlotte", "Marie", "Kayla", "Alexis", "Lori", "Ella",
};

static const char *const en_last[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
	"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
	"Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
	"Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
	"Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
	"Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
	"Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards",
	"Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
	"Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
	"Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
	"Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
	"Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
	"Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson",
	"Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson",
	"Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West",
	"Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
	"Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
	"McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen",
	"Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson",
	"Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon",
	"Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd",
	"Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt",
	"Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan",
	"Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold",
	"Pierce", "Vazquez", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight",
	"Elliott",
};

static const char *const domains[] = {
	"mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru",
	"outlook.com", "yahoo.com", "icloud.com", "example.com", "example.org",
};

/* Latin spelling of а..я (U+0430..U+044F), in code point order. */
static const char *const translit_tab[32] = {
	"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
	"r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
};

void bench_name_counts(size_t *ru_first, size_t *ru_last_n, size_t *en_first_n, size_t *en_last_n)
{
	*ru_first = COUNT(ru_male) + COUNT(ru_female);
	*ru_last_n = COUNT(ru_last);
	*en_first_n = COUNT(en_first);
	*en_last_n = COUNT(en_last);
}

void bench_utf8_prefix(char *out, size_t cap, const char *s, size_t chars)
{
	size_t i = 0;
	while (s[i] && chars > 0) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		chars--;
	}
	snprintf(out, cap, "%.*s", (int)i, s);
}

/* Lower-case ASCII transliteration of a Latin or Cyrillic name. */
static void translit(char *out, size_t cap, const char *in)
{
	size_t off = 0;
	out[0] = '\0';
	for (const unsigned char *p = (const unsigned char *)in; *p && off + 5 < cap; p++) {
		if (*p < 0x80) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				out[off++] = (char)(*p | 0x20);
			continue;
		}
		if ((*p != 0xd0 && *p != 0xd1) || (p[1] & 0xc0) != 0x80)
			continue;
		unsigned cp = ((unsigned)(*p & 0x1f) << 6) | (p[1] & 0x3f);
		p++;
		if (cp >= 0x410 && cp <= 0x42f)
			cp += 0x20;
		const char *lat = cp == 0x401 || cp == 0x451 ? "e"
				  : cp >= 0x430 && cp <= 0x44f ? translit_tab[cp - 0x430] : "";
		off += (size_t)snprintf(out + off, cap - off, "%s", lat);
	}
	out[off] = '\0';
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The female form of a Russian surname given in the male form. */
static void female_last(char *out, size_t cap, const char *male)
{
	size_t n = strlen(male);
	if (ends_with(male, "кий") || ends_with(male, "ой"))
		snprintf(out, cap, "%.*sая", (int)(n - strlen("ий")), male);
	else if (ends_with(male, "ов") || ends_with(male, "ев") || ends_with(male, "ёв") ||
		 ends_with(male, "ин") || ends_with(male, "ын"))
		snprintf(out, cap, "%sа", male);
	else
		snprintf(out, cap, "%s", male);
}

#define PICK(r, list) (list)[bench_rng_below((r), COUNT(list))]

static void make_name(bench_person *p, bench_rng *r)
{
	if (bench_rng_below(r, 100) < 60) {   /* 60 % Russian names, half of them women */
		int female = (int)bench_rng_below(r, 2);
		const char *last = PICK(r, ru_last);
		snprintf(p->first, sizeof(p->first), "%s", female ? PICK(r, ru_female) : PICK(r, ru_male));
		if (female)
			female_last(p->last, sizeof(p->last), last);
		else
			snprintf(p->last, sizeof(p->last), "%s", last);
	} else {
		snprintf(p->first, sizeof(p->first), "%s", PICK(r, en_first));
		snprintf(p->last, sizeof(p->last), "%s", PICK(r, en_last));
	}
}

/* "ivan.petrov", "i.petrov42" or "petrov1987" at a common mail domain. */
static void make_email(bench_person *p, bench_rng *r)
{
	char first[64], last[64];
	translit(first, sizeof(first), p->first);
	translit(last, sizeof(last), p->last);
	unsigned num = (unsigned)bench_rng_below(r, 10000);
	const char *domain = PICK(r, domains);
	switch (bench_rng_below(r, 3)) {
	case 0:
		snprintf(p->email, sizeof(p->email), "%s.%s%u@%s", first, last, num % 100, domain);
		break;
	case 1:
		snprintf(p->email, sizeof(p->email), "%.1s.%s%u@%s", first, last, num, domain);
		break;
	default:
		snprintf(p->email, sizeof(p->email), "%s%u@%s", last, 1950 + num % 60, domain);
	}
}

/* A Russian mobile number, written the way people usually write one. */
static void make_phone(bench_person *p, bench_rng *r)
{
	unsigned op = 900 + (unsigned)bench_rng_below(r, 100);
	unsigned a = (unsigned)bench_rng_below(r, 1000);
	unsigned b = (unsigned)bench_rng_below(r, 100), c = (unsigned)bench_rng_below(r, 100);
	snprintf(p->phone, sizeof(p->phone), "+7 %03u %03u-%02u-%02u", op, a, b, c);
	snprintf(p->digits, sizeof(p->digits), "7%03u%03u%02u%02u", op, a, b, c);
}

void bench_person_make(bench_person *p, uint64_t seed, uint64_t index)
{
	bench_rng r;
	bench_rng_for(&r, seed, index);
	make_name(p, &r);
	make_email(p, &r);
	make_phone(p, &r);
}
