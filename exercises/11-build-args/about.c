/*
 * about.c - the app for exercise 11.
 *
 * Prints one line and exits 0: its own version, the image it runs on, and
 * the Debian release of that image:
 *
 *     $ /usr/local/bin/about
 *     about 1.4.2 on debian:bookworm-slim (Debian 12.15)
 *
 * Each part comes from a different place, at a different time:
 *
 *   - the version is baked in when the program is compiled:
 *         gcc -DAPP_VERSION='"1.4.2"' ...
 *   - the image's name is read at run time from the environment variable
 *     BASE_IMAGE, which the Dockerfile sets with ENV;
 *   - the Debian release is read at run time from /etc/debian_version,
 *     a file of the base image itself.
 *
 * If the version or the image's name arrives empty, it says so and exits 1.
 * That is what an ARG used in a stage that never declared it looks like.
 *
 * It is linked dynamically against the C library, so it needs a Debian
 * image to run (not scratch), built from the same release it was compiled on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef APP_VERSION
#error "compile with -DAPP_VERSION='\"x.y.z\"'"
#endif

int main(void)
{
    const char *version = APP_VERSION;
    const char *image = getenv("BASE_IMAGE");

    if (version[0] == '\0') {
        printf("about: the version is empty: APP_VERSION was \"\" when this program was compiled\n");
        return 1;
    }
    if (image == NULL || image[0] == '\0') {
        printf("about %s: BASE_IMAGE is not set, so the image's name is unknown\n", version);
        return 1;
    }
    size_t n = strlen(image);
    if (image[n - 1] == ':') {
        printf("about %s: BASE_IMAGE is \"%s\": the tag after the colon is empty\n", version, image);
        return 1;
    }

    /* /etc/debian_version holds one line, e.g. "12.15". */
    char release[64] = "unknown";
    FILE *f = fopen("/etc/debian_version", "r");
    if (f != NULL) {
        if (fgets(release, sizeof release, f) == NULL)
            strcpy(release, "unknown");
        release[strcspn(release, "\n")] = '\0';
        fclose(f);
    }

    printf("about %s on %s (Debian %s)\n", version, image, release);
    return 0;
}
