/* hello.h: shared between the two files of the test module. */
#pragma once
void hello_greet(const char *who);
