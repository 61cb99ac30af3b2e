package unsafe

import (
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

func TestSQLInjection(t *testing.T) {
	runRuleCases(t, NewUnsafeInput(), scan.Argument, []ruleCase{
		{"tautology quoted", "admin' OR '1'='1", ruleSQL, scan.High},
		{"tautology numeric literal", "' or 1=1--", ruleSQL, scan.High},
		{"tautology letters", "x' OR 'a'='a", ruleSQL, scan.High},
		{"tautology double quotes and paren", `") OR ("x"="x`, ruleSQL, scan.High},
		{"tautology numeric context", "7 OR 2=2", ruleSQL, scan.Medium},
		{"union after quote", "1' UNION SELECT username, password FROM users--", ruleSQL, scan.High},
		{"union all nulls", "-1 UNION ALL SELECT NULL,NULL,NULL--", ruleSQL, scan.High},
		{"union url encoded", "id=1%20UNION%20SELECT%20null,version()", ruleSQL, scan.High},
		{"union inline comments", "x'/**/UnIoN/**/SeLeCt/**/table_name/**/FROM/**/information_schema.tables#", ruleSQL, scan.Critical},
		{"stacked drop after quote", "name'; DROP TABLE accounts;--", ruleSQL, scan.Critical},
		{"stacked delete numeric", "42; DELETE FROM orders", ruleSQL, scan.High},
		{"stacked shutdown", "x'; SHUTDOWN--", ruleSQL, scan.Critical},
		{"comment truncation", "admin'--", ruleSQL, scan.Medium},
		{"comment truncation hash", "root' #", ruleSQL, scan.Medium},
		{"sleep after quote", "x' AND SLEEP(5)--", ruleSQL, scan.High},
		{"pg_sleep", "1) OR pg_sleep(10)--", ruleSQL, scan.High},
		{"waitfor delay", "'; WAITFOR DELAY '0:0:5'--", ruleSQL, scan.High},
		{"benchmark", "1 AND BENCHMARK(5000000,MD5(1))", ruleSQL, scan.High},
		{"xp_cmdshell", "'; EXEC xp_cmdshell 'whoami'--", ruleSQL, scan.Critical},
		{"load_file", "' UNION SELECT LOAD_FILE('/etc/passwd')--", ruleSQL, scan.High},
		{"into outfile", "1 UNION SELECT '<?php system($_GET[c]); ?>' INTO OUTFILE '/var/www/x.php'", ruleSQL, scan.High},

		{"prose about injection", "How do I prevent SQL injection in my login form?", "", ""},
		{"prose drop table", "We decided to drop table tennis from the offsite; select a new activity instead.", "", ""},
		{"legit union query", "SELECT name FROM users u JOIN orders o ON u.id = o.user_id WHERE o.total > 100 UNION SELECT name FROM archived_users", "", ""},
		{"legit trailing comment", "SELECT * FROM t WHERE name = 'bob' -- the owner", "", ""},
		{"python sleep", "time.sleep(5)  # wait for the server", "", ""},
		{"java sleep", "Thread.sleep(1000); retry();", "", ""},
		{"prose semicolon update", "The build is green; update the changelog when you can.", "", ""},
		{"code comparison", "if x == 1 or y == 2: return x", "", ""},
		{"migration script", "ALTER TABLE users ADD COLUMN age int; CREATE TABLE logs (id int);", "", ""},
		{"json string starting with keyword", `{"query": "Union select release notes"}`, "", ""},
		{"date literal", "SELECT u.name FROM users u WHERE o.created_at > '2026-01-01'", "", ""},
		{"cli flags in quotes", `args = ['-v', '--debug', '--out=x']`, "", ""},
	})
}
