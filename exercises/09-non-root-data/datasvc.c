/*
 * datasvc.c - the app for exercise 09: a tiny HTTP service that writes to /data.
 *
 *     GET /healthz   records the check in /data/last-check.txt and answers
 *                    200 "ok" if the write worked, or 500 and the error:
 *                    "cannot write /data/.last-check.tmp: Permission denied"
 *     GET /          200: the uid it runs as, the owner and mode of /data,
 *                    and how many writes have worked
 *     other paths    404 (other methods: 405)
 *
 * A health check that writes is a health check that notices a data
 * directory the service cannot write to, before a real request does.
 *
 * It listens on :8080 (override with the PORT environment variable), answers
 * one request at a time, and exits cleanly on SIGTERM, which is what
 * `docker stop` sends. It uses only the C standard library and POSIX, so it
 * links statically (`gcc -static`) and runs in a `FROM scratch` image.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DATA_DIR "/data"
#define TMP_FILE DATA_DIR "/.last-check.tmp"
#define DST_FILE DATA_DIR "/last-check.txt"

static volatile sig_atomic_t stopping = 0;
static unsigned long writes = 0;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Writes all of buf to a file or, with is_socket, to a socket; or fails. */
static int write_all(int fd, const char *buf, size_t len, int is_socket)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: a client that hung up must not kill us with SIGPIPE. */
        ssize_t n = is_socket ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void reply(int fd, int status, const char *reason, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, strlen(body));
    if (write_all(fd, head, (size_t)n, 1) == 0)
        write_all(fd, body, strlen(body), 1);
}

/*
 * Records one check in /data/last-check.txt. It writes a temporary file and
 * renames it over the old one, so a reader never sees half a file. Creating
 * and renaming files needs write permission on the directory /data itself.
 * Returns 0, or -1 with the reason in msg.
 */
static int record_check(char *msg, size_t size)
{
    char line[128];
    int len = snprintf(line, sizeof line, "check %lu at %lld by uid %d\n",
                       writes + 1, (long long)time(NULL), (int)getuid());

    int fd = open(TMP_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(msg, size, "cannot write %s: %s\n", TMP_FILE, strerror(errno));
        return -1;
    }
    if (write_all(fd, line, (size_t)len, 0) < 0 || fsync(fd) < 0) {
        snprintf(msg, size, "cannot write %s: %s\n", TMP_FILE, strerror(errno));
        close(fd);
        unlink(TMP_FILE);
        return -1;
    }
    if (close(fd) < 0) {
        snprintf(msg, size, "cannot write %s: %s\n", TMP_FILE, strerror(errno));
        unlink(TMP_FILE);
        return -1;
    }
    if (rename(TMP_FILE, DST_FILE) < 0) {
        snprintf(msg, size, "cannot rename %s to %s: %s\n", TMP_FILE, DST_FILE,
                 strerror(errno));
        unlink(TMP_FILE);
        return -1;
    }
    writes++;
    return 0;
}

static void handle(int fd)
{
    /* Read the request head: up to the blank line, 2 kB at most. */
    char req[2048];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[got] = '\0';

    char method[8], path[256];
    if (sscanf(req, "%7s %255s", method, path) != 2) {
        reply(fd, 400, "Bad Request", "bad request\n");
        return;
    }
    path[strcspn(path, "?")] = '\0'; /* ignore any query string */

    int known = strcmp(path, "/healthz") == 0 || strcmp(path, "/") == 0;
    if (!known) {
        reply(fd, 404, "Not Found", "not found\n");
        return;
    }
    if (strcmp(method, "GET") != 0) {
        reply(fd, 405, "Method Not Allowed", "method not allowed\n");
        return;
    }

    char body[512];
    if (strcmp(path, "/healthz") == 0) {
        if (record_check(body, sizeof body) == 0) {
            reply(fd, 200, "OK", "ok\n");
        } else {
            fprintf(stderr, "healthz: %s", body);
            reply(fd, 500, "Internal Server Error", body);
        }
        return;
    }

    struct stat st;
    char owner[96];
    if (stat(DATA_DIR, &st) == 0)
        snprintf(owner, sizeof owner, "owner %d:%d, mode %04o", (int)st.st_uid,
                 (int)st.st_gid, (unsigned)(st.st_mode & 07777));
    else
        snprintf(owner, sizeof owner, "%s", strerror(errno));
    snprintf(body, sizeof body,
             "running as uid %d, gid %d\n" DATA_DIR ": %s\nsuccessful writes: %lu\n",
             (int)getuid(), (int)getgid(), owner, writes);
    reply(fd, 200, "OK", body);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    const char *env = getenv("PORT");
    int port = env ? atoi(env) : 8080;

    /* No SA_RESTART: SIGTERM must interrupt accept() so that we can exit. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int srv = socket(AF_INET, SOCK_STREAM, 0);
    if (srv < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((unsigned short)port);
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 16) < 0) {
        fprintf(stderr, "listen on :%d: %s\n", port, strerror(errno));
        return 1;
    }
    printf("listening on :%d as uid %d, writing to %s\n", port, (int)getuid(), DATA_DIR);

    while (!stopping) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) {
            if (errno != EINTR)
                perror("accept");
            continue;
        }
        /* A client that sends nothing must not hold the service for long. */
        struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        handle(fd);
        close(fd);
    }

    printf("shutting down after %lu writes\n", writes);
    close(srv);
    return 0;
}
