#define UTS_RELEASE "6.1.0-56-rt-amd64"
