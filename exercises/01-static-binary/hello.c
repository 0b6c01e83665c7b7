/*
 * hello.c - the app for exercise 01.
 *
 * Greets whoever is named on the command line and exits 0:
 *
 *     $ /hello class
 *     Hello, class
 *     $ /hello
 *     Hello, world
 *
 * It only uses the C standard library, so it can be linked statically
 * (`gcc -static`) and then needs nothing else at run time: no libc.so, no
 * dynamic loader, no shell. That is what lets it run in a `FROM scratch` image.
 */
#include <stdio.h>

int main(int argc, char *argv[])
{
    /* With no argument, greet the world. */
    const char *name = (argc > 1) ? argv[1] : "world";

    printf("Hello, %s\n", name);
    return 0;
}
