// Role-based step-up: people holding one of the listed roles pass a second factor after their password;
// everyone else signs in with the first step alone.
var rolesNeedingSecondFactor = ['admin', 'manager'];

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            if (hasAnyOfTheRolesV2(context, rolesNeedingSecondFactor)) {
                Log.info(context.currentKnownSubject.username + ' holds a role that needs a second factor');
                executeStep(2);
            }
        }
    });
};
