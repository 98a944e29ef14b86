/*
 * AWSAuthenticationPlugin for MariaDB: a stand-in for Aurora MySQL's IAM
 * database authentication, for rdsiam's local real-engine lane only.
 *
 * The C is kept to transport: every decision is made by the Go verifier of
 * package github.com/rdsiam/rdsiam/auroralocal/mariadb, reached over the Unix socket named by
 * the environment variable RDSIAM_VERIFIER_SOCKET of the server process.
 * Per login, one socket connection and two exchanges:
 *
 *   1. "transport": connection id, client address, server address. The
 *      Go side answers whether the connection is TLS (MariaDB 10.11's plugin
 *      API does not say; the verifier reads performance_schema.threads).
 *      Only if it may continue is the client asked for its password, so a
 *      token is never requested over plain TCP. (The user name is not known
 *      yet: MariaDB fills it in with the client's answer.)
 *   2. "token": user name and the cleartext password (the RDS IAM token).
 *      The Go side verifies the SigV4 signature and the principal's
 *      rds-db:connect.
 *
 * Each message is a sequence of fields, each a 4-byte big-endian length and
 * the bytes; each answer is one byte, 'Y' (allow) or 'N' (refuse). Any
 * failure to reach the verifier refuses the login.
 */
#include <mysql/plugin_auth.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define VERIFIER_ENV "RDSIAM_VERIFIER_SOCKET"
#define VERIFIER_TIMEOUT_SECONDS 20

static int send_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_field(int fd, const char *data, size_t len)
{
  unsigned char hdr[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
  if (send_all(fd, hdr, 4))
    return -1;
  return len ? send_all(fd, data, len) : 0;
}

static int send_str(int fd, const char *s) { return send_field(fd, s, s ? strlen(s) : 0); }

/* answer reads the verifier's one-byte decision: 1 allow, 0 refuse. */
static int answer(int fd)
{
  char c = 0;
  return recv(fd, &c, 1, MSG_WAITALL) == 1 && c == 'Y';
}

static int dial_verifier(void)
{
  const char *path = getenv(VERIFIER_ENV);
  struct sockaddr_un addr;
  struct timeval tv = {VERIFIER_TIMEOUT_SECONDS, 0};
  int fd;
  if (!path || strlen(path) >= sizeof(addr.sun_path))
    return -1;
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
    close(fd);
    return -1;
  }
  return fd;
}

/* format_addr writes "ip:port" of the socket's local or peer end. */
static void format_addr(int sock, int peer, char *out, size_t outlen)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  char ip[INET6_ADDRSTRLEN] = "";
  int port = 0;
  out[0] = 0;
  if ((peer ? getpeername(sock, (struct sockaddr *)&ss, &len)
            : getsockname(sock, (struct sockaddr *)&ss, &len)))
    return;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
  } else {
    snprintf(out, outlen, "unix");
    return;
  }
  snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
}

static int authenticate(MYSQL_PLUGIN_VIO *vio, MYSQL_SERVER_AUTH_INFO *info)
{
  MYSQL_PLUGIN_VIO_INFO vinfo;
  char conn_id[24], client[80] = "", server[80] = "";
  unsigned char *pkt;
  int pkt_len, fd, ok;

  /* 1045 "(using password: NO)" when refused before the token, as MySQL
     answers; NO_MENTION would make MariaDB send 1698 instead. */
  info->password_used = PASSWORD_USED_NO;
  vio->info(vio, &vinfo);
  if (vinfo.protocol == MYSQL_VIO_TCP) {
    format_addr(vinfo.socket, 1, client, sizeof(client));
    format_addr(vinfo.socket, 0, server, sizeof(server));
  }
  snprintf(conn_id, sizeof(conn_id), "%lu", thd_get_thread_id(info->thd));

  fd = dial_verifier();
  if (fd < 0)
    return CR_ERROR;
  ok = !send_str(fd, "transport") && !send_str(fd, conn_id) && !send_str(fd, client) && !send_str(fd, server) && answer(fd);
  if (!ok) {
    close(fd);
    return CR_ERROR;
  }
  /* Asks the client for mysql_clear_password (the auth switch, if needed). */
  pkt_len = vio->read_packet(vio, &pkt);
  if (pkt_len < 0) {
    close(fd);
    return CR_ERROR;
  }
  info->password_used = PASSWORD_USED_YES;
  if (pkt_len > 0 && pkt[pkt_len - 1] == 0)
    pkt_len--; /* NUL-terminated on the wire */
  ok = !send_str(fd, "token") && !send_str(fd, info->user_name) && !send_field(fd, (const char *)pkt, (size_t)pkt_len) && answer(fd);
  close(fd);
  return ok ? CR_OK : CR_ERROR;
}

static struct st_mysql_auth aws_auth_handler = {
  MYSQL_AUTHENTICATION_INTERFACE_VERSION,
  "mysql_clear_password",
  authenticate,
  NULL, NULL /* no password hashes: the account's auth string is 'RDS' */
};

maria_declare_plugin(aws_auth)
{
  MYSQL_AUTHENTICATION_PLUGIN,
  &aws_auth_handler,
  "AWSAuthenticationPlugin",
  "rdsiam",
  "Aurora-style IAM database authentication for rdsiam's local tests (verifier in Go)",
  PLUGIN_LICENSE_GPL,
  NULL, NULL,
  0x0100,
  NULL, NULL,
  "1.0",
  MariaDB_PLUGIN_MATURITY_EXPERIMENTAL
}
maria_declare_plugin_end;
