// Group-based access: only members of the listed groups may use this application.  Anyone else is
// turned away after the password step with an error the application receives.
var allowedGroups = ['engineering', 'support'];

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            if (!isMemberOfAnyOfGroups(user, allowedGroups)) {
                Log.info(user.username + ' is in none of ' + allowedGroups.join(', '));
                fail({errorCode: 'access_denied', errorMessage: 'This application is for engineering and support.'});
            }
        }
    });
};
