package sqlident

import "strings"

// reservedWords are the keywords marked reserved (R) in the MySQL 8.0
// reference manual ("Keywords and Reserved Words"), plus the four that MySQL
// 8.4 added (MANUAL, PARALLEL, QUALIFY, TABLESAMPLE) so that a name accepted
// today keeps working after an engine upgrade. Words that cannot match the
// name patterns (none today) would simply never be consulted.
//
// Non-reserved keywords such as USER, PASSWORD or STATUS are deliberately
// absent: MySQL accepts them unquoted as identifiers.
const reservedWords = `
ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE
BEFORE BETWEEN BIGINT BINARY BLOB BOTH BY
CALL CASCADE CASE CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION
CONSTRAINT CONTINUE CONVERT CREATE CROSS CUBE CUME_DIST CURRENT_DATE
CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR
DATABASE DATABASES DAY_HOUR DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC DECIMAL
DECLARE DEFAULT DELAYED DELETE DENSE_RANK DESC DESCRIBE DETERMINISTIC DISTINCT
DISTINCTROW DIV DOUBLE DROP DUAL
EACH ELSE ELSEIF EMPTY ENCLOSED ESCAPED EXCEPT EXISTS EXIT EXPLAIN
FALSE FETCH FIRST_VALUE FLOAT FLOAT4 FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT
FUNCTION
GENERATED GET GRANT GROUP GROUPING GROUPS
HAVING HIGH_PRIORITY HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND
IF IGNORE IN INDEX INFILE INNER INOUT INSENSITIVE INSERT INT INT1 INT2 INT3
INT4 INT8 INTEGER INTERSECT INTERVAL INTO IO_AFTER_GTIDS IO_BEFORE_GTIDS IS
ITERATE
JOIN JSON_TABLE
KEY KEYS KILL
LAG LAST_VALUE LATERAL LEAD LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD
LOCALTIME LOCALTIMESTAMP LOCK LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY
MANUAL MASTER_BIND MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB
MEDIUMINT MEDIUMTEXT MIDDLEINT MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES
NATURAL NOT NO_WRITE_TO_BINLOG NTH_VALUE NTILE NULL NUMERIC
OF ON OPTIMIZE OPTIMIZER_COSTS OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE
OVER
PARALLEL PARTITION PERCENT_RANK PRECISION PRIMARY PROCEDURE PURGE
QUALIFY
RANGE RANK READ READS READ_WRITE REAL RECURSIVE REFERENCES REGEXP RELEASE
RENAME REPEAT REPLACE REQUIRE RESIGNAL RESTRICT RETURN REVOKE RIGHT RLIKE ROW
ROWS ROW_NUMBER
SCHEMA SCHEMAS SECOND_MICROSECOND SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL
SMALLINT SPATIAL SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING SQL_BIG_RESULT
SQL_CALC_FOUND_ROWS SQL_SMALL_RESULT SSL STARTING STORED STRAIGHT_JOIN SYSTEM
TABLE TABLESAMPLE TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO TRAILING
TRIGGER TRUE
UNDO UNION UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE UTC_TIME
UTC_TIMESTAMP
VALUES VARBINARY VARCHAR VARCHARACTER VARYING VIRTUAL
WHEN WHERE WHILE WINDOW WITH WRITE
XOR
YEAR_MONTH
ZEROFILL
`

// reservedWordSet is reservedWords indexed for lookup, built once at start-up.
var reservedWordSet = func() map[string]struct{} {
	words := strings.Fields(reservedWords)
	set := make(map[string]struct{}, len(words))
	for _, w := range words {
		set[w] = struct{}{}
	}
	return set
}()

// IsReservedWord reports whether word, compared without regard to ASCII
// case, is a MySQL 8 reserved word that cannot be used as an unquoted
// identifier. Words containing non-ASCII characters are never reserved (and
// Unicode case folding, which maps "ſelect" to "SELECT", is not applied).
func IsReservedWord(word string) bool {
	upper, ok := asciiUpper(word)
	if !ok {
		return false
	}
	_, ok = reservedWordSet[upper]
	return ok
}

// asciiUpper upper-cases the ASCII letters of s. It reports false, and
// returns "", if s contains a byte outside ASCII: the keywords and privilege
// names it is compared with are pure ASCII, and Unicode case mapping would
// let look-alike characters pass as them.
func asciiUpper(s string) (string, bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 0x80:
			return "", false
		case 'a' <= c && c <= 'z':
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b), true
}
