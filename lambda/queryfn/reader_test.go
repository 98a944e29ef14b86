package queryfn

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// TestReadsGoToTheReader: with a reader pool, every read runs there and
// every write on the writer, and whoami names the endpoint that answered.
func TestReadsGoToTheReader(t *testing.T) {
	whoami := map[string]stubAnswer{
		sqlWhoAmI:    {columns: []string{"CURRENT_USER()", "VERSION()"}, rows: [][]driver.Value{{"app_user@%", "8.0.39"}}},
		sqlTLSCipher: {columns: []string{"Variable_name", "Value"}, rows: [][]driver.Value{{"Ssl_cipher", "TLS_AES_128_GCM_SHA256"}}},
	}
	reads := map[string]stubAnswer{
		sqlCountItems: {columns: []string{"COUNT(*)"}, rows: [][]driver.Value{{int64(3)}}},
	}
	for k, v := range whoami {
		reads[k] = v
	}
	writes := map[string]stubAnswer{sqlAddItem: {lastInsertID: 7, rowsAffected: 1}}
	for k, v := range whoami {
		writes[k] = v
	}
	for _, tc := range []struct {
		name       string
		withReader bool
		want       string
	}{
		{"writer only", false, EndpointWriter},
		{"writer and reader", true, EndpointReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writerDB, writer := openStub(t, writes)
			h := New(writerDB)
			readerDB, reader := openStub(t, reads)
			if tc.withReader {
				h = NewWithReader(writerDB, readerDB)
			} else {
				writer.answers[sqlCountItems] = reads[sqlCountItems]
			}
			ctx := context.Background()
			resp, err := h.Do(ctx, Request{Action: ActionWhoAmI})
			if err != nil || resp.Endpoint != tc.want {
				t.Fatalf("whoami: %+v, %v; want endpoint %q", resp, err, tc.want)
			}
			if _, err := h.Do(ctx, Request{Action: ActionCountItems}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Do(ctx, Request{Action: ActionAddItem, Name: "x"}); err != nil {
				t.Fatal(err)
			}
			if resp, err := h.Do(ctx, Request{Action: ActionCountItems}); err != nil || resp.Endpoint != "" {
				t.Errorf("count_items: %+v, %v; only whoami names its endpoint", resp, err)
			}
			var readerSQL, writerSQL []string
			for _, c := range reader.recorded() {
				readerSQL = append(readerSQL, c.query)
			}
			for _, c := range writer.recorded() {
				writerSQL = append(writerSQL, c.query)
			}
			if tc.withReader {
				if strings.Join(writerSQL, ";") != sqlAddItem {
					t.Errorf("writer ran %q, want only the insert", writerSQL)
				}
				if len(readerSQL) != 4 || strings.Contains(strings.Join(readerSQL, ";"), "INSERT") {
					t.Errorf("reader ran %q, want whoami's two statements and two counts", readerSQL)
				}
			} else if len(readerSQL) != 0 || len(writerSQL) != 5 {
				t.Errorf("without a reader the writer should run everything: writer %q, reader %q", writerSQL, readerSQL)
			}
		})
	}
}

func TestReaderConfigFromEnv(t *testing.T) {
	writer := iamdb.Config{Host: "db.cluster-abc.eu-west-1.rds.amazonaws.com", Port: 3306, User: "app_user",
		Database: "appdb", Region: "eu-west-1"}
	for _, tc := range []struct {
		name, value string
		wantOK      bool
		wantErr     string
	}{
		{"unset", "", false, ""},
		{"reader endpoint", "db.cluster-ro-abc.eu-west-1.rds.amazonaws.com", true, ""},
		{"host with a port", "db.cluster-ro-abc:3306", false, EnvReaderEndpoint + `="db.cluster-ro-abc:3306"`},
		{"the writer again", writer.Host, false, "is DB_ENDPOINT's host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok, err := ReaderConfigFromEnv(writer, func(k string) string {
				if k == EnvReaderEndpoint {
					return tc.value
				}
				return ""
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ok != tc.wantOK {
				t.Fatalf("ok %v, err %v; want ok %v", ok, err, tc.wantOK)
			}
			if ok && (cfg.Host != tc.value || cfg.User != writer.User || cfg.Database != writer.Database || cfg.Port != writer.Port) {
				t.Errorf("reader config %+v: want the writer's with Host %q", cfg, tc.value)
			}
		})
	}
}

// TestContainerReadsFromReader: with DB_READER_ENDPOINT set, the
// container's reads dial the reader endpoint and its writes the writer.
func TestContainerReadsFromReader(t *testing.T) {
	isolateAWS(t)
	port := strconv.Itoa(closedPort(t))
	env := map[string]string{
		EnvEndpoint: "127.0.0.1", EnvPort: port, EnvUser: "app_user", EnvDatabase: "app", EnvRegion: "eu-west-1",
		EnvReaderEndpoint: "localhost",
	}
	h, err := NewContainer(context.Background(), ContainerOptions{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ request, host string }{
		{`{"action":"count_items"}`, "localhost"},
		{`{"action":"add_item","params":{"name":"x"}}`, "127.0.0.1"},
	} {
		_, err := h(context.Background(), json.RawMessage(tc.request))
		if err == nil || !strings.Contains(err.Error(), "iamdb: connect to "+tc.host+":"+port) {
			t.Errorf("%s against closed ports: %v, want a connect error naming %s", tc.request, err, tc.host)
		}
	}
}
