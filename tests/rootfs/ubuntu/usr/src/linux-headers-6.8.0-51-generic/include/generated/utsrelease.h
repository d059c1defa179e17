#define UTS_RELEASE "6.8.0-51-generic"
